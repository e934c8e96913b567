"""The catalog: channels published account-wide or in one sub-account's catalog."""
