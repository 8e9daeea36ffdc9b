"""the HTTP face: REST (OpenAPI), TAXII mount, the analyst's web UI"""
