using System.Reflection;

namespace Palisade.Analysis.Audit;

/// <summary>How an evidence field travels: as text, a whole number, a flag or a list of texts.</summary>
public enum EvidenceKind
{
    Text,
    Number,
    Flag,
    List,
}

/// <summary>One field of a finding's evidence as it travels: named in ECS casing, its value a string, long, bool, list of strings, or null.</summary>
public readonly record struct EvidenceField(string Name, object? Value);

/// <summary>
/// What a finding rests on, typed per check: each check declares its evidence as a positional record
/// beside its <see cref="CheckInfo"/> (<c>Checks/*.cs</c>). Writers (the ECS answer of
/// AuditSecurityGroups, the CLI's JSON and SARIF) take <see cref="Fields"/>, named once by the
/// record's own parameters in ECS casing; readers of an answer (the CLI auditing a server) get the
/// same record back with <see cref="Read"/>. Values are domain types where the domain has one
/// (protocol, address, block, NIC type, IDs), written in their wire spelling.
/// </summary>
public abstract record Evidence
{
    /// <summary>The fields in the record's order, with wire values.</summary>
    public IReadOnlyList<EvidenceField> Fields => ToFields();

    private protected virtual IReadOnlyList<EvidenceField> ToFields() => Shape.Of(GetType()).Write(this);

    /// <summary>
    /// The evidence of one of <paramref name="types"/> (a check's evidence records) from a written
    /// answer: the first whose fields are all present (<paramref name="has"/>) and read
    /// (<paramref name="read"/>, asked each field's name and kind; an absent or empty value is null). An
    /// answer none of them fits — a newer server's check, or evidence this client cannot read — is kept as
    /// <see cref="Unknown"/>, so nothing is lost.
    /// </summary>
    public static Evidence Read(IReadOnlyList<Type> types, IReadOnlyList<string> names, Func<string, EvidenceKind, object?> read)
    {
        foreach (var type in types)
        {
            var shape = Shape.Of(type);
            if (!shape.Names.ToHashSet(StringComparer.Ordinal).SetEquals(names))
                continue;
            if (shape.TryRead(read, out var evidence))
                return evidence;
        }
        return new Unknown([.. names.Select(n => new EvidenceField(n, read(n, EvidenceKind.Text)))]);
    }

    /// <summary>Evidence of a check this build does not know, as it was written.</summary>
    public sealed record Unknown(IReadOnlyList<EvidenceField> Written) : Evidence
    {
        private protected override IReadOnlyList<EvidenceField> ToFields() => Written;

        public bool Equals(Unknown? other) => other is not null && Written.SequenceEqual(other.Written);

        public override int GetHashCode() => Written.Count;
    }

    /// <summary>The fields of a positional evidence record: its constructor's parameters, in order.</summary>
    private sealed class Shape
    {
        private static readonly Dictionary<Type, Shape> Shapes = [];
        private static readonly Lock Gate = new();

        private readonly ConstructorInfo _constructor;
        private readonly (string Name, PropertyInfo Property, Codec Codec, bool Nullable)[] _fields;

        private Shape(Type type)
        {
            _constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
            var nullability = new NullabilityInfoContext();
            _fields = [.. _constructor.GetParameters().Select(p =>
            {
                var property = type.GetProperty(p.Name!) ?? throw new InvalidOperationException($"{type.Name}.{p.Name} has no property");
                var nullable = Nullable.GetUnderlyingType(p.ParameterType) is not null || nullability.Create(p).ReadState == NullabilityState.Nullable;
                return (p.Name!, property, Codec.For(p.ParameterType), nullable);
            })];
        }

        public IEnumerable<string> Names => _fields.Select(f => f.Name);

        public static Shape Of(Type type)
        {
            lock (Gate)
            {
                if (!Shapes.TryGetValue(type, out var shape))
                    Shapes.Add(type, shape = new Shape(type));
                return shape;
            }
        }

        public IReadOnlyList<EvidenceField> Write(Evidence evidence) =>
            [.. _fields.Select(f => new EvidenceField(f.Name, f.Property.GetValue(evidence) is { } value ? f.Codec.Write(value) : null))];

        public bool TryRead(Func<string, EvidenceKind, object?> read, out Evidence evidence)
        {
            evidence = null!;
            var arguments = new object?[_fields.Length];
            for (var k = 0; k < _fields.Length; k++)
            {
                var (name, _, codec, nullable) = _fields[k];
                var written = read(name, codec.Kind);
                if (written is null || (written is string { Length: 0 } && codec.Kind != EvidenceKind.Text))
                {
                    if (!nullable)
                        return false;
                    continue;
                }
                // ECS writes a missing value as "": a nullable field reads it back as null, a text field as "".
                if (written is string { Length: 0 } && nullable)
                    continue;
                if (codec.Read(written) is not { } value)
                    return false;
                arguments[k] = value;
            }
            evidence = (Evidence)_constructor.Invoke(arguments);
            return true;
        }
    }

    /// <summary>How one field's type is written and read back.</summary>
    private sealed record Codec(EvidenceKind Kind, Func<object, object> Write, Func<object, object?> Read)
    {
        private static Codec Text<T>(Func<T, string> write, Func<string, T?> read) where T : struct =>
            new(EvidenceKind.Text, v => write((T)v), w => w is string s && read(s) is { } value ? value : null);

        private static T? Try<T>(bool ok, T value) where T : struct => ok ? value : null;

        public static Codec For(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type == typeof(string))
                return new(EvidenceKind.Text, v => v, w => w as string);
            if (type == typeof(int))
                return new(EvidenceKind.Number, v => (long)(int)v, w => w is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null);
            if (type == typeof(long))
                return new(EvidenceKind.Number, v => v, w => w as long?);
            if (type == typeof(bool))
                return new(EvidenceKind.Flag, v => v, w => w as bool?);
            if (type == typeof(IpProtocol))
                return Text<IpProtocol>(p => p.ToWire(), s => Try(IpProtocols.TryParse(s, out var p), p));
            if (type == typeof(NicType))
                return Text<NicType>(n => n.ToWire(), s => Try(NicTypes.TryParse(s, out var n), n));
            if (type == typeof(IpAddress))
                return Text<IpAddress>(a => a.ToString(), s => Try(IpAddress.TryParse(s, out var a), a));
            if (type == typeof(Cidr))
                return Text<Cidr>(c => c.ToString(), s => Try(Cidr.TryParse(s, out var c), c));
            if (type == typeof(SecurityGroupId))
                return Text<SecurityGroupId>(g => g.Value, s => Try(SecurityGroupId.TryParse(s, out var g), g));
            if (type == typeof(SecurityGroupRuleId))
                return Text<SecurityGroupRuleId>(r => r.Value, s => Try(SecurityGroupRuleId.TryParse(s, out var r), r));
            if (type == typeof(InstanceId))
                return Text<InstanceId>(i => i.Value, s => Try(InstanceId.TryParse(s, out var i), i));
            if (type == typeof(VpcId))
                return Text<VpcId>(v => v.Value, s => Try(VpcId.TryParse(s, out var v), v));
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            {
                var element = type.GetGenericArguments()[0];
                var codec = For(element);
                return new(EvidenceKind.List,
                    v => ((System.Collections.IEnumerable)v).Cast<object>().Select(x => (string)codec.Write(x)).ToArray(),
                    w =>
                    {
                        if (w is not IReadOnlyList<string> items)
                            return null;
                        var array = Array.CreateInstance(element, items.Count);
                        for (var k = 0; k < items.Count; k++)
                        {
                            if (codec.Read(items[k]) is not { } item)
                                return null;
                            array.SetValue(item, k);
                        }
                        return array;
                    });
            }
            throw new InvalidOperationException($"evidence cannot hold a {type.Name}");
        }
    }
}
