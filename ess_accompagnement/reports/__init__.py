"""What the app prints and exports: PDF summaries, spreadsheets, calendars, observatory figures. No Qt."""
