"""The API's resource groups, each as a sync class and its async twin."""
