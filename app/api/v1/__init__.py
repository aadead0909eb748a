"""Version 1 of the JSON API. Changes within v1 are additive; documented fields never change meaning."""
