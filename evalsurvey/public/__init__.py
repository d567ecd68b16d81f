"""The respondent's side: questionnaires opened from a QR code or an invitation."""
