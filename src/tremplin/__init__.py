"""Tremplin: free digital-skills schools, from the call for applications to the job found."""
