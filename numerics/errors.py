"""The one exception type the command line turns into a one-line error and a non-zero exit."""


class NeurogateError(Exception):
    """A problem with the user's input (model, option, file), described in one line."""
