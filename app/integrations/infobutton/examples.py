"""Documented examples of Infobutton answers (OpenAPI): the live answer to EXAMPLE_QUERY, first entry only.

Generated from the content by the test suite's recipe (tests/integrations/test_infobutton_faces.py checks that
the example entry is still what the service answers); nothing here is written by hand.
"""

from typing import Any

EXAMPLE_QUERY = "mainSearchCriteria.v.c=M79.7&mainSearchCriteria.v.cs=2.16.840.1.113883.6.90&mainSearchCriteria.v.dn=Fibromyalgia&informationRecipient=PAT"

EXAMPLE_JSON: dict[str, Any] = {
    "feed": {
        "base": "https://ldn-kb.example/",
        "lang": "en",
        "title": {"_value": "ldn-kb knowledge response", "type": "text"},
        "updated": {"_value": "2026-11-28T06:55:16.876567+00:00"},
        "id": {
            "_value": "https://ldn-kb.example/infobutton?mainSearchCriteria.v.c=M79.7&mainSearchCriteria.v.cs=2.16.840.1.113883.6.90&mainSearchCriteria.v.dn=Fibromyalgia&informationRecipient=PAT&knowledgeResponseType=application/json"
        },
        "author": {"name": {"_value": "ldn-kb"}, "uri": {"_value": "https://ldn-kb.example/"}},
        "subtitle": {"_value": "ldn-kb results for ICD-10-CM M79.7", "type": "text"},
        "category": [
            {"scheme": "mainSearchCriteria.v.c", "term": "M79.7"},
            {"scheme": "mainSearchCriteria.v.cs", "term": "2.16.840.1.113883.6.90"},
            {"scheme": "informationRecipient", "term": "PAT"},
        ],
        "entry": [
            {
                "title": {
                    "_value": "Naltrexone (Low-dose naltrexone (LDN)) for Fibromyalgia: off-label",
                    "type": "text",
                },
                "link": [
                    {
                        "href": "https://ldn-kb.example/pages/indications/ldn-fibromyalgia",
                        "rel": "alternate",
                        "type": "text/html",
                    },
                    {
                        "href": "https://ldn-kb.example/v1/indications/ldn-fibromyalgia",
                        "rel": "related",
                        "type": "application/json",
                    },
                ],
                "id": {"_value": "https://ldn-kb.example/pages/indications/ldn-fibromyalgia"},
                "summary": {
                    "type": "text",
                    "_value": "Three small studies tested LDN for fibromyalgia. Two found fewer "
                    "symptoms or less pain, but the largest found no meaningful "
                    "effect, so the results are mixed. This use is not approved; talk "
                    "to your clinician. Reference information about naltrexone for "
                    "health professionals and informed readers; not medical advice. "
                    "Off-label uses are labelled as such. Decisions about treatment "
                    "belong to a patient and their clinician.",
                },
                "updated": {"_value": "2026-11-28T06:55:16.876567+00:00"},
            }
        ],
    }
}

EXAMPLE_ATOM = '<?xml version=\'1.0\' encoding=\'utf-8\'?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xml:base="https://ldn-kb.example/"><title type="text">ldn-kb knowledge response</title><updated>2026-11-28T06:55:16.876567+00:00</updated><id>https://ldn-kb.example/infobutton?mainSearchCriteria.v.c=M79.7&amp;mainSearchCriteria.v.cs=2.16.840.1.113883.6.90&amp;mainSearchCriteria.v.dn=Fibromyalgia&amp;informationRecipient=PAT</id><author><name>ldn-kb</name><uri>https://ldn-kb.example/</uri></author><subtitle type="text">ldn-kb results for ICD-10-CM M79.7</subtitle><category scheme="mainSearchCriteria.v.c" term="M79.7" /><category scheme="mainSearchCriteria.v.cs" term="2.16.840.1.113883.6.90" /><category scheme="informationRecipient" term="PAT" /><entry><title type="text">Naltrexone (Low-dose naltrexone (LDN)) for Fibromyalgia: off-label</title><link href="https://ldn-kb.example/pages/indications/ldn-fibromyalgia" rel="alternate" type="text/html" /><link href="https://ldn-kb.example/v1/indications/ldn-fibromyalgia" rel="related" type="application/json" /><id>https://ldn-kb.example/pages/indications/ldn-fibromyalgia</id><summary type="text">Three small studies tested LDN for fibromyalgia. Two found fewer symptoms or less pain, but the largest found no meaningful effect, so the results are mixed. This use is not approved; talk to your clinician. Reference information about naltrexone for health professionals and informed readers; not medical advice. Off-label uses are labelled as such. Decisions about treatment belong to a patient and their clinician.</summary><updated>2026-11-28T06:55:16.876567+00:00</updated></entry></feed>'
