"""After the incident: the post-incident review, remediation actions, archiving. Issue 16."""
