"""The pages that print a document for a participant: choose the document and the language,
download the PDF. Only for the participant's own provider (through `visible_or_404`), and
each print is a read of the participant's record in the audit trail."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from kim.casework.models import Case, CaseKind, Participant, Referral
from kim.casework.reads import audit_read
from kim.core.access import personal_data_view, visible_or_404
from kim.core.audit import Action, record
from kim.core.forms import KernForm
from kim.core.models import ReferralTarget
from kim.core.views import render_form

from .registry import DOCUMENTS, LANGUAGES
from .render import Subject, document_pdf


def language_choices():
    return [("", gettext_lazy("– choose a language –"))] + [
        (code, f"{language.german_name} ({language.native_name})") for code, language in LANGUAGES.items()]


def document_choices(user, participant):
    """What can be printed for the participant: consent and information, the goal agreement of
    each case-management case and the letter of each referral the user may see."""
    choices = [("", gettext_lazy("– choose a document –")),
               ("consent", DOCUMENTS["consent"].title), ("information", DOCUMENTS["information"].title)]
    cases = Case.objects.visible_to(user).filter(participant=participant)
    for case in cases.filter(kind=CaseKind.CASE_MANAGEMENT):
        choices.append((f"goals-{case.pk}", f"{DOCUMENTS['goals'].title} · {case.number}"))
    for referral in Referral.objects.visible_to(user).filter(case__in=cases).select_related("case", "target"):
        choices.append((f"referral-{referral.pk}", f"{DOCUMENTS['referral'].title} · {referral.case.number} → "
                                                   f"{referral.target} ({referral.referred_on:%d.%m.%Y})"))
    return choices


class DocumentForm(KernForm):
    document = forms.ChoiceField(label=gettext_lazy("Document"), error_messages={
        "required": gettext_lazy("Please choose a document."),
        "invalid_choice": gettext_lazy("This document cannot be printed for this participant.")})
    language = forms.ChoiceField(label=gettext_lazy("Second language besides German"), error_messages={
        "required": gettext_lazy("Please choose the language of the participant."),
        "invalid_choice": gettext_lazy("Documents are not available in this language.")})

    def __init__(self, *args, user, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.participant = participant
        self.fields["document"].choices = document_choices(user, participant)
        self.fields["language"].choices = language_choices()

    def clean_document(self):
        document = self.cleaned_data["document"]
        # Art. 18 GDPR: a restricted record is shown, but no data of it leave for a partner.
        if document.startswith("referral-") and self.participant.restricted_on:
            raise forms.ValidationError(_("The processing of this person's data is restricted: "
                                          "no data may be passed on to a partner."))
        return document


def subject_for(user, participant, document: str) -> tuple[str, Subject]:
    """The kind of document and what it is printed for, from a valid choice of DocumentForm."""
    if document.startswith("goals-"):
        case = visible_or_404(Case, user, pk=int(document.removeprefix("goals-")), participant=participant)
        return "goals", Subject(participant, case=case)
    if document.startswith("referral-"):
        referral = visible_or_404(Referral, user, pk=int(document.removeprefix("referral-")),
                                  case__participant=participant)
        return "referral", Subject(participant, case=referral.case, referral=referral)
    subject = Subject(participant, consent=participant.active_consent())
    if subject.consent is None:  # a blank form: the partners of the district, to tick by hand
        subject.partners = list(ReferralTarget.objects.filter(active=True, means_no_need=False))
    return document, subject


@personal_data_view
@require_safe  # a download: no other method answers with the record
def participant_documents(request, pk):
    user = request.user
    participant = visible_or_404(Participant, user, pk=pk)
    if participant.anonymised_on:
        return render(request, "privacy/anonymised.html", {"anonymised_on": participant.anonymised_on}, status=410)
    # The form sends both fields; a link that names only the document (the case page's
    # referral letter) preselects it.
    sent = "language" in request.GET
    form = DocumentForm(request.GET if sent else None, user=user, participant=participant,
                        initial={"document": request.GET.get("document", "")})
    if form.is_valid():
        kind, subject = subject_for(user, participant, form.cleaned_data["document"])
        language = form.cleaned_data["language"]
        shown = subject.referral or subject.case or participant
        record(user, Action.READ, shown, changes={"document": [None, f"{kind} de/{language}"]})
        response = HttpResponse(document_pdf(kind, language, subject), content_type="application/pdf")
        name = f"{kind}-{participant.code}-de-{language}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    audit_read(user, participant)
    return render_form(request, "privacy/documents.html", {
        "form": form, "participant": participant, "title": _("Print documents for the participant"),
        "back_url": reverse("casework:participant", args=[pk]),
    })
