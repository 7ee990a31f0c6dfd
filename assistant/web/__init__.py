"""The web app: the HTTP API, the chat page and the Slack endpoint on one FastAPI app."""
