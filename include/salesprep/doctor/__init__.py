"""`salesprep doctor`: a read-only preflight of a deployment against its Salesforce org. Every
check is a small function returning a `Check` (OK, INFO, WARN, FAIL or SKIP, with the fix for a
FAIL); `run_doctor` runs them in order. See docs/doctor.md."""

from salesprep.doctor.model import Check, DoctorReport, Status
from salesprep.doctor.runner import run_doctor

__all__ = ["Check", "DoctorReport", "Status", "run_doctor"]
