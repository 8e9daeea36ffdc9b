"""triage, incidents, the DISARM taxonomy, attribution and confidence scales"""
