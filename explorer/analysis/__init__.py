"""Measurements on built models (torch, no Qt): the gradient probe and recorder."""
