"""Patch an .xlsx package in place of a load+save round trip.

Only the parts a sync must change are parsed (with lxml, which keeps every element,
attribute and namespace declaration it does not understand, extLst included): of a
worksheet, only what surrounds its rows and the rows an edit touches (see sheet.py). Every
other part of the zip is copied as it is stored.
"""
