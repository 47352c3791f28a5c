"""What a round's photo may be: an image Pillow can open, at most INSPECTIONS_PHOTO_MAX_BYTES.

The client's file name and content type are its word only; Pillow reading the
bytes decides. Phones send JPEG (iOS converts HEIC when uploading from a
page), so JPEG, PNG and WebP are accepted. Stored through Django's storage API
(``Result.photo``) under a name Fenghuo chooses, served only through the view
that checks who may read it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# A decompression bomb (a tiny file that expands to gigapixels) is refused before it is decoded.
MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class CheckedPhoto:
    name: str
    content: ContentFile
    content_type: str


def _size(limit: int) -> str:
    return f"{limit / 1048576:g} MB" if limit >= 1048576 else f"{limit // 1024} KB"


def checked_photo(upload: UploadedFile) -> CheckedPhoto:
    limit = settings.INSPECTIONS_PHOTO_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError({"photo": [_("the photo is larger than %(max)s; take it again at a lower "
                                           "resolution") % {"max": _size(limit)}]})
    data = upload.read()
    if not data:
        raise ValidationError({"photo": [_("the photo is empty")]})
    try:
        from io import BytesIO

        with Image.open(BytesIO(data)) as image:
            kind = image.format
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError({"photo": [_("the photo has too many pixels")]})
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"photo": [_("this file is not a photo (JPEG, PNG or WebP)")]}) from None
    if kind not in FORMATS:
        raise ValidationError({"photo": [_("photos are JPEG, PNG or WebP, not %(kind)s") % {"kind": kind}]})
    extension = FORMATS[kind]
    return CheckedPhoto(name=f"photo.{extension}", content=ContentFile(data), content_type=f"image/{extension}")
