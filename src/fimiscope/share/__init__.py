"""STIX 2.1 mapping, TAXII 2.1 server routes and client, TLP markings and partner policy"""
