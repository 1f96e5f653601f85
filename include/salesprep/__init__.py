"""salesprep: weekly 1:1 prep packets from Salesforce."""
