"""`cis demo`: a small cohort on a fast clock, with simulated people acting, so a newcomer sees the whole process."""
