"""Photo-quality checks that decide whether a redness measurement can be trusted.

Each check returns warning codes with a human-readable text; thresholds are module constants with the reason
beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from needlecare.hints import ImageU8, Mask

#: Variance of the Laplacian of the skin (analysis frame, eye distance 128 px) below which the face is
#: blurred.
#: Sharp portraits measure 60-400 here; a Gaussian blur of sigma 3 px brings them below 15.
BLUR_LAPLACIAN_VARIANCE = 15.0
#: Median skin luma (8-bit) outside this range: under- or over-exposed.
DARK_SKIN_LUMA, BRIGHT_SKIN_LUMA = 45.0, 225.0
#: Fraction of skin pixels clipped (any channel >= 250) above which highlights are blown.
CLIPPED_FRACTION = 0.05
#: Eye distance in the photo as taken below which the face is too small for a measurement (px).
MIN_EYE_DISTANCE_PX = 40.0
#: Head rotation beyond which regions are foreshortened and the light falls differently (degrees).
MAX_YAW, MAX_PITCH, MAX_ROLL = 15.0, 15.0, 12.0
#: JPEG colour (chroma DC) quantisation step, in 8-bit levels of a block's mean, from which compression
#: alone can move the index by more than 0.01 OD_hb. Measured on six faces over six block alignments, after
#: the loader has restored exact block means (imaging/jpeg_chroma.py): quality 75 (step 1.1) moved it by
#: <= 0.0055; quality 60 (step 1.75) by 0.009 at most as the faces are, but by up to 0.017 at some block
#: alignments and 0.023 on a small face (each block's own rounding, which no decoder can undo).
COARSE_CHROMA_STEP = 1.5


@dataclass(frozen=True)
class QualityWarning:
    """A quality problem: a stable ``code`` and a ``message`` for the user."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def compression_warning(chroma_step: float | None) -> QualityWarning | None:
    """A warning for a JPEG whose colour is quantised coarsely enough to move the index, else None.

    Examples
    --------
    >>> compression_warning(1.75).code
    'compressed'
    >>> compression_warning(0.375) is None
    True
    """
    if chroma_step is None or chroma_step < COARSE_CHROMA_STEP:
        return None
    return QualityWarning(
        "compressed",
        f"the photo is heavily compressed (JPEG colour rounded in steps of {chroma_step:.1f} levels per "
        "block), which can move the redness index by up to about 0.02: send the camera's original photo",
    )


def sharpness(gray: ImageU8, skin: Mask) -> float:
    """Variance of the Laplacian over skin pixels of an (H, W) uint8 image (higher = sharper)."""
    laplacian = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    inner = cv2.erode(skin.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    values = laplacian[inner]
    return float(values.var()) if values.size else 0.0


def check_quality(
    rgb: ImageU8,
    skin: Mask,
    *,
    native_eye_distance: float,
    pose: tuple[float, float, float],
) -> list[QualityWarning]:
    """Quality warnings for one analysed face.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        Analysis-frame image.
    skin : (H, W) bool
        Skin mask in that frame.
    native_eye_distance : float
        Eye distance in the photo as taken, px.
    pose : (yaw, pitch, roll), degrees
    """
    warnings: list[QualityWarning] = []
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if sharpness(gray, skin) < BLUR_LAPLACIAN_VARIANCE:
        warnings.append(
            QualityWarning("blurred", "the face is blurred: hold the phone still and tap to focus")
        )
    skin_pixels = rgb[skin]
    if skin_pixels.size:
        luma = float(np.median(gray[skin]))
        if luma < DARK_SKIN_LUMA:
            warnings.append(QualityWarning("underexposed", "the face is too dark: face a window or a lamp"))
        elif luma > BRIGHT_SKIN_LUMA:
            warnings.append(
                QualityWarning("overexposed", "the face is too bright: avoid direct sun or flash")
            )
        clipped = float((skin_pixels.max(axis=1) >= 250).mean())
        if clipped > CLIPPED_FRACTION:
            warnings.append(
                QualityWarning(
                    "highlights_clipped", f"{clipped:.0%} of the skin is blown out by glare or flash"
                )
            )
    if native_eye_distance < MIN_EYE_DISTANCE_PX:
        warnings.append(
            QualityWarning(
                "face_too_small", "the face is too small in the photo: come closer or use the zoom"
            )
        )
    yaw, pitch, roll = pose
    if abs(yaw) > MAX_YAW or abs(pitch) > MAX_PITCH or abs(roll) > MAX_ROLL:
        warnings.append(
            QualityWarning(
                "head_turned",
                f"the head is turned (yaw {yaw:.0f}°, pitch {pitch:.0f}°, roll {roll:.0f}°): "
                "look straight at the camera",
            )
        )
    return warnings
