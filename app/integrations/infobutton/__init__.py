"""HL7 Infobutton (Context-Aware Knowledge Retrieval), URL-based, answering like MedlinePlus Connect."""
