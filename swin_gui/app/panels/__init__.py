"""One small file per panel; each renders the session state and emits user intent."""
