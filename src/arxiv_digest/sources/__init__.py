"""Where papers come from: arXiv's API, OAI-PMH and RSS listing, over HTTP with patience."""
