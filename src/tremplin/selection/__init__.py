"""Selection: from marks and wishes to admitted, waitlisted and not retained.

The algorithmic core (`engine`, `scoring`, `national`) is pure Python and numpy with no
Django import; the app itself only adds the `allocate` management command.
"""
