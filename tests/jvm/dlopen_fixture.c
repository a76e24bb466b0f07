/* dlopen_fixture - the library dlopen_runpath.c loads by name. */
int dlopen_fixture_answer(void);

int dlopen_fixture_answer(void)
{
    return 42;
}
