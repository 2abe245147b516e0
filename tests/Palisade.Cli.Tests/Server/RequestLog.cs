using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Palisade.Cli.Tests.Server;

/// <summary>
/// The server's request log as a test reads it: the action of every line the request path logs
/// (its <c>{Action}</c> field), in order. What a client called, as the server saw it.
/// </summary>
public sealed class RequestLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _actions = new();

    public IReadOnlyList<string> Actions => [.. _actions];

    public ILogger CreateLogger(string categoryName) =>
        categoryName == "Palisade.Server.Hosting.RpcEndpoint" ? new Recorder(_actions) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Recorder(ConcurrentQueue<string> actions) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Information && state is IReadOnlyList<KeyValuePair<string, object?>> fields
                && fields.FirstOrDefault(f => f.Key == "Action").Value is { } action)
                actions.Enqueue(action.ToString()!);
        }
    }
}
