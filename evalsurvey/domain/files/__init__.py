"""Files in and out: the response interchange CSV, uploaded tables, the findings
spreadsheet, and the exports people open in Excel and SPSS."""
