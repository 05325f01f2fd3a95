"""lifecircle.planning"""
