"""lifecircle.geo"""
