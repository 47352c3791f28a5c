"""The evidence pack's file formats: the query's value → the file's media type.

Apart from ``pack`` so the URL configuration does not import the renderers
(WeasyPrint takes most of a second to import) before anyone exports.
"""

FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
