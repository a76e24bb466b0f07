/* dlsym_next_b - the definition that follows dlsym_next_a's in the search order. */
int dlsym_next_value(void);
int dlsym_next_b_present(void);

int dlsym_next_b_present(void)
{
    return 1;
}

int dlsym_next_value(void)
{
    return 42;
}
