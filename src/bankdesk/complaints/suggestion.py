"""Where the complaint process meets the classifier, without paying for it when it is idle.

The classifier brings scikit-learn and jieba (about a second to import). A bank that has not
trained one must not pay that on its first complaint, nor an officer classifying a complaint
nothing was suggested for: these hooks import it only when there is something for it to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from bankdesk.complaints.models import Complaint, ComplaintClass


def model_path() -> Path:
    """The trained model in service (one file under BANKDESK_HOME)."""
    return Path(settings.BANKDESK_HOME) / "complaints" / "classifier.npz"


def suggest_on_commit(complaint: Complaint) -> None:
    """A new complaint gets its suggested product and issue once its case has committed."""
    if not model_path().exists():
        return
    from bankdesk.complaints.classifier import complaint_suggest_on_commit

    complaint_suggest_on_commit(complaint)


def officer_choice_keep(
    complaint: Complaint, product: ComplaintClass | None, issue: ComplaintClass | None
) -> None:
    """An officer's classification of a complaint that had a suggestion is kept as an example."""
    if complaint.suggested_product_id is None or product is None:
        return
    from bankdesk.complaints.classifier import classification_example_record

    classification_example_record(complaint=complaint, product=product, issue=issue)
