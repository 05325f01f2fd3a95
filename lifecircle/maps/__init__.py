"""lifecircle.maps"""
