"""The paper's figures stand beside a run as the paper's, and are compared only where the run's
dataset and recipe match (otherwise the words say which conditions differ)."""
from dataclasses import replace

from hypothesis import given, strategies as st

from explorer.experiments import claims as C
from explorer.experiments.degradation import DegradationSettings
from explorer.experiments.paper import CIFAR_TABLE6, IMAGENET_TABLE2, mismatches, paper_series, paper_words

MATCHING = replace(DegradationSettings(), dataset="cifar10:/data/cifar", image_size=None, augment=True,
                   schedule="multistep", epochs=164)


def test_the_published_figures():
    assert CIFAR_TABLE6.values == {"ResNet-20": 0.0875, "ResNet-32": 0.0751, "ResNet-44": 0.0717,
                                   "ResNet-56": 0.0697, "ResNet-110": 0.0643, "ResNet-1202": 0.0793}
    assert IMAGENET_TABLE2.values["ResNet-34"] == 0.2503 and IMAGENET_TABLE2.values["plain-34"] == 0.2854
    assert [d for d, _ in paper_series()] == [20, 32, 44, 56, 110, 1202]


def test_the_default_run_is_not_compared_and_says_why():
    w = paper_words(DegradationSettings(), {"ResNet-20": 0.05, "ResNet-56": 0.06})
    text = w.text
    assert "not compared with the paper" in text and "dataset digits (the paper: CIFAR-10)" in text
    assert "cosine schedule" in text and "30 epochs" in text
    assert w.sentences[0]["lesson"] and "Table 6" in w.sentences[0]["source"]
    assert C.check(w.to_dict()) == []


def test_a_matching_run_is_compared_depth_by_depth():
    assert mismatches(MATCHING) == []
    w = paper_words(MATCHING, {"ResNet-20": 0.0901, "ResNet-56": 0.0812, "plain-56": 0.12})
    assert "ResNet-20 ended at 9.01% test error, within 1 point of the paper's 8.75%" in w.text
    assert "ResNet-56 ended at 8.12% test error, more than 1 point above the paper's 6.97%" in w.text
    assert "plain-56" not in w.text.split("trained with")[-1]  # the paper has no plain-56 test error to set beside it


@given(st.dictionaries(st.sampled_from(sorted(CIFAR_TABLE6.values) + ["plain-20"]), st.floats(0, 1), max_size=6),
       st.booleans())
def test_every_comparison_holds_on_random_tables(errors, matching):
    settings = MATCHING if matching else DegradationSettings()
    assert C.check(paper_words(settings, errors).to_dict()) == []


def test_the_degradation_words_quote_the_imagenet_table_and_fig6_as_the_papers():
    from explorer.experiments.degradation import ArmResult
    from explorer.experiments.arms import Arm
    from explorer.experiments.degradation_words import conclude

    arms = [ArmResult(Arm(k, d), [0.5, e], [0.5, e + 0.02]) for (k, d), e in
            {("plain", 20): 0.0, ("plain", 56): 0.3, ("resnet", 20): 0.0, ("resnet", 56): 0.0}.items()]
    v = conclude(arms, 2, DegradationSettings(epochs=2))
    lessons = [s for s in v.words.sentences if isinstance(s, dict)]
    sources = [s.get("source", "") for s in lessons]
    assert any("Table 2" in s for s in sources) and any("Fig. 6" in s for s in sources)
    assert any("plain-34 28.54%" in s["text"] for s in lessons)
    assert C.check(v.words.to_dict()) == []
