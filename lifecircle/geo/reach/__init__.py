"""What a walk reaches: coverage per compound and category, street cells, isochrones and served areas."""
