"""The vault: documents, the storage engine, malware scanning, contacts and shares."""
