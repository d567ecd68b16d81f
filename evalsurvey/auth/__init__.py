"""Staff sign-in and the role guards every staff view uses."""
