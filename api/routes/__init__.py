"""The HTTP routes, one router per feature: asking and searching, the 台账, documents, the service itself."""
