"""The demo register, installed as package data for `xlsync demo`."""
