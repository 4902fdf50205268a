"""Documents handed to participants, printed bilingual side by side: German on the left, the
participant's language on the right. `registry` names the documents and languages and
versions their texts, `catalogues` holds the translations, `render` prints the PDF."""
