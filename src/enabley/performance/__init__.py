"""Learner progress on channel items, the performance derived from it, and force-complete."""
