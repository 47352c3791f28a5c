"""The evidence pack and the timeline's hash chain, for auditors. Issue 16."""
