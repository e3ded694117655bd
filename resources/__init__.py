"""Data files the app loads at run time (not Python): translations, icons, map symbols, QGIS
styles, the offline-map page. A package only so the wheel ships it; ``app.resources.resource_path``
finds the files."""
