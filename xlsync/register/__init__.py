"""The register workbook as data: schema, cell parsing, reading, validation, creation."""
