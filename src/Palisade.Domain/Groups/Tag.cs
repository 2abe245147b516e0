namespace Palisade.Domain.Groups;

/// <summary>A resource tag. Keys are unique per resource, compared case-insensitively.</summary>
public sealed record Tag(string Key, string Value);
