"""Patch an .xlsx package in place of a load+save round trip.

Only the parts a sync must change are parsed (with lxml, which keeps every element,
attribute and namespace declaration it does not understand, extLst included); every other
part of the zip is copied unchanged.
"""
