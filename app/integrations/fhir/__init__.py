"""FHIR R4 (4.0.1) read-only facade at ``/fhir/R4``: CapabilityStatement, MedicationKnowledge read and
search, and the StructureDefinitions / CodeSystems of what we define.

It maps the results of ``app.services`` into FHIR shapes and holds no copy of the knowledge.
"""
