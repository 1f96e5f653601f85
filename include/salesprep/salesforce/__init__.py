"""Salesforce: the connection, the API client and extraction into the raw landing zone."""
