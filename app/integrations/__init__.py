"""EHR-facing faces of the same services: FHIR R4, CDS Hooks 2.0, HL7 Infobutton."""
