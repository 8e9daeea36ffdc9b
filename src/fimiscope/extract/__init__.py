"""Raw item -> Document: main text and metadata, language, canonical URL, normalisation."""
