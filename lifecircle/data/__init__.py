"""lifecircle.data"""
