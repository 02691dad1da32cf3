namespace HetQ;

/// <summary>An error caused by the user's input (a file, a configuration key, a spec string):
/// the message names the input and what is wrong; the CLI prints it without a stack trace.</summary>
public class HetQException : Exception
{
    public HetQException(string message) : base(message) { }
    public HetQException(string message, Exception inner) : base(message, inner) { }
}
