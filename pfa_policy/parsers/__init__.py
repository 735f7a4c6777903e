"""Parsers turn file text into position-carrying structures. Each raises ParseError on bad input."""
